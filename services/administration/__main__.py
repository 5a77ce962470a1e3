"""``python -m services.administration``: run the administration service process."""

from services.administration.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
