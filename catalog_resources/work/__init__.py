"""How a step spends the machine: clips of a batch side by side, and what a step cost in CPU."""
