"""A built release, or a recipe's recordings, in the row shape another trainer reads as it is
(`curate export ...`): one module per trainer."""


class ExportError(ValueError):
    """An export that cannot be written as asked: the message says what to change."""
