"""imMTrax Access Portal: the electronic front door for access to Montana's IIS."""
