"""Gateway relay: forwards Discord chat-message metadata to xpshop's ingestion endpoint.

`relay.events` and `relay.forwarder` do not import discord.py; only `relay.bot` does.
"""
