"""What every app needs and none owns: service errors, yen formatting, bilingual names.

The lowest layer (see `.importlinter`): it imports no app of the project.
"""
