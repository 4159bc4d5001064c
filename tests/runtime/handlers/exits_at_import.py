"""Ends its process while being imported, like a module calling os._exit or crashing in a C extension."""

import os

print("importing exits_at_import")
os._exit(4)
