"""Spec tools: lint contract files for what silently breaks tools and clients (and, to come,
diff two versions and audit a file's change log against CAISO's MAJOR.MINOR.MINI rules)."""
