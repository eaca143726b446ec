"""QgsTask subclasses: background work that never touches widgets or the project in run()."""
