from ninja import Router

router = Router(tags=["诉求"])
