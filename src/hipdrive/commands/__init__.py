"""Sub-commands of the ``hipdrive`` CLI, one module per pipeline stage."""
