import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
application = get_wsgi_application()

if os.environ.get("BIANMIN_WARM_SEARCH") == "1":
    # `bianmin up` runs gunicorn with --preload and sets this: the master loads the Chinese
    # segmenter and the catalog's words once, before forking, so no worker (nor one restarted by
    # --max-requests) makes the first citizen search wait seconds for jieba's dictionary.
    from bianmin.catalog.selectors import warm_search

    warm_search()
