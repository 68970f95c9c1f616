class ShopError(Exception):
    pass


class PaymentDeclined(ShopError):
    pass


class OutOfStock(ShopError, LookupError):
    pass
