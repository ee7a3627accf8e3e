"""Lecturer tooling: the flashcard deck (``cards/*.yaml``) and its Anki/CSV export
(``flashcards``), the lessons' exercise checkers and quiz (``exercises``), reveal.js slides
(``slides``) and one command for all of them (``python -m gan_course.teaching.materials``).

The lessons import only ``exercises``; nothing here trains a model.
"""
