"""The Django project package: settings, root URLs, WSGI/ASGI and site-wide views."""
