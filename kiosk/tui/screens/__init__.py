"""The kiosk's screens, one module per area: idle, the tap flow, my items, office, admin."""
