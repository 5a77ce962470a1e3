"""``python -m services.console``: run the console process."""

from services.console.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
