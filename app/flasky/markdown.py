"""Posts are written in Markdown and shown as HTML, as in the book: the
Markdown is rendered, then cleaned (Bleach) down to a short list of harmless
tags and attributes, so a post can carry emphasis, lists, code and links but
never a script, a style or an event handler."""

import bleach
import markdown as md
from markupsafe import Markup

ALLOWED_TAGS = {'a', 'abbr', 'acronym', 'b', 'blockquote', 'code', 'em', 'i', 'li', 'ol', 'pre',
                'strong', 'ul', 'h1', 'h2', 'h3', 'p'}
ALLOWED_ATTRIBUTES = {'a': ['href', 'title'], 'abbr': ['title'], 'acronym': ['title']}
ALLOWED_PROTOCOLS = {'http', 'https', 'mailto'}


def render(text):
    """The post's Markdown as safe HTML (links made clickable, rel=nofollow)."""
    html = md.markdown(text or '', output_format='html')
    clean = bleach.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                         protocols=ALLOWED_PROTOCOLS, strip=True)
    return Markup(bleach.linkify(clean))
