"""``python -m services.quality``: run the quality service process."""

from services.quality.bootstrap import SERVICE

if __name__ == "__main__":
    SERVICE.build().run()
