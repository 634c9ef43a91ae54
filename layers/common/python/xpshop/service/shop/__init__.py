"""Shop use cases (/api/v1 and the Discord shop commands): who may act, the shop's rules (xpshop.shop),
what each refusal says, and the shape of every answer. Storage is xpshop.store's, which runs the guarded
writes and reports which guard failed.

accounts   profiles, the ledger, Minecraft links, user API keys; which account a caller may act on
catalog    categories and cosmetics
purchases  buy (price, creator payout), grant, revoke, equip, unequip
coupons    coupon eligibility and redemption
creators   creator codes and who supports them
credits    balances set or changed by an admin, and credits paid for levels
"""
