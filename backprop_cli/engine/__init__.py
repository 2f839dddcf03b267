"""One step of backpropagation, recorded: the passes, the trace (the JSON contract), matrices."""
