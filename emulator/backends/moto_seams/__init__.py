"""The only place pipemu touches moto internals, one module per seam.

Each module has ``install(...)`` and ``uninstall()``, patches exactly the attributes it names in
``TOUCHES``, and ``tests/backends/test_moto_seams.py`` fails loudly when moto renames or reshapes them.
"""
