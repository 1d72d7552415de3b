"""The school sign-out kiosk: settings, storage, the loan service, the screen and the CLI.

The headless parts (settings, storage, service, importer) import nothing from
``textual``, ``gpiozero``, ``requests`` or ``mfrc522``; ``tests/test_layers.py``
holds them to that.
"""

__version__ = "0.1.0"
