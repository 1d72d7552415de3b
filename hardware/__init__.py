"""Tag readers and feedback (LEDs, buzzer). Knows nothing of loans, staff or items.

Readers turn what they see into ``TagSeen`` / ``ReaderLost`` / ``ReaderBack``
events (``hardware.events``); the kiosk decides what a UID means. Importing this
package loads no GPIO or SPI library: each backend imports its own on use.
"""
