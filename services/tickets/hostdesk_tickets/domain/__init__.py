"""The ticket and its rules: who sees what, deadlines, numbers, refusals. No I/O."""
