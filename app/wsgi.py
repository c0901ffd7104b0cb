"""WSGI entry point for gunicorn: ``gunicorn wsgi:app`` (run from app/).

The configuration comes from FLASK_CONFIG, like flasky.py.
"""
from flasky import create_app

app = create_app()
