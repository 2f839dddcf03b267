"""Learning tools: explain, check (answers, grading, slips, logs), exercises, gradcheck."""
