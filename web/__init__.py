"""The web app behind app.py: upload or record, see emotion and transcript, convert, live mode.

    from web.server import create_app, serving
"""
