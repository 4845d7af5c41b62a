"""The command line: thin wrappers that build inputs, call the package and print results.

Each command lives in its own module with a ``register(app)`` function; ``app.py`` finds them,
so adding a command never edits a shared file.
"""
