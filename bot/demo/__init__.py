"""``bibliobot demo``: a demo library, the bot, and a chat page, all on this machine.

:mod:`bot.demo.library` builds the library through the services; :mod:`bot.demo.page` serves
the chat page beside the sandbox's control API; :mod:`bot.demo.runner` starts the emulator, the
real bot (``build_application``) pointed at it, and the page.
"""
