"""What drives intake besides HTTP: nothing yet; the e-mail gateway (SMTP, IMAP) and alerts will arrive here."""
