"""The shell every Ambulante feature shares: app factory, settings, database, i18n, mail."""
