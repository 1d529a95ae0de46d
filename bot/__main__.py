from bot.cli import main

# Guarded: the importer's worker processes are spawned and import the main module again.
if __name__ == "__main__":
    raise SystemExit(main())
