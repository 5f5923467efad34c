"""Telling users when their generations end: by e-mail and Web Push, several endings in one
message, exactly once per generation."""
