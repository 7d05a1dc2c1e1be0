"""Questionnaires: the file format, its expression language and the forms built from it."""
