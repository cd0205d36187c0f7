import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bianmin.settings")
application = get_wsgi_application()

if os.environ.get("BIANMIN_WARM_SEARCH") == "1":
    # `bianmin up` runs gunicorn with --preload and sets this: the master loads the Chinese
    # segmenter and the catalog's words once, before forking, so no worker (nor one restarted by
    # --max-requests) makes the first citizen search wait seconds for jieba's dictionary.
    import gc

    from bianmin.catalog.selectors import warm_search
    from bianmin.policies.selectors import warm_search as warm_policy_search

    warm_search()
    warm_policy_search()
    # Move what the master loaded (jieba's dictionary is millions of objects) out of the cyclic
    # collector's sight: otherwise every full collection in every worker walks it again, which
    # cost a third of the evaluation endpoint's throughput. It also keeps those pages shared
    # copy-on-write between the workers.
    gc.collect()
    gc.freeze()
