"""Knowledge packs (articles, intents, facts) and the retrieval that matches questions to them.

Nothing here knows about channels, the database or the dialogue engine: the bot asks a
`Retriever` for the best matches of a text and decides what to do with them.
"""
