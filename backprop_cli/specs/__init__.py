"""Files in (YAML configs, CSV and JSONL samples, saved state), validated frozen dataclasses out."""
