"""Bills (ЕПД) with the payment QR code, PDF rendering, stored files."""
