"""The web app behind app.py: upload or record, see emotion and transcript, convert, live mode.

    from emovc.web.server import create_app, serving
"""
