"""Published maps: the build (command and job) and the files it leaves for the pages."""
