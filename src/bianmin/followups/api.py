from ninja import Router

router = Router(tags=["回访与整改"])
