"""A built release in the row shape another trainer reads as it is (`curate export ...`): one
module per trainer, each reading the release folder alone."""
