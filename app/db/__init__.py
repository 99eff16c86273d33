"""SQLAlchemy 2 async adapter: models, repositories and Alembic migrations."""
