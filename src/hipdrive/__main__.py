from hipdrive.cli import entry_point

entry_point()
