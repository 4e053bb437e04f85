"""Consultations: GCM objectives, consultations, numbered questions and threaded comments."""
