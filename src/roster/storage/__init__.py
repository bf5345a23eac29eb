"""SQLAlchemy Core tables, Alembic migrations, the SQL store and the writer. The only package
that imports SQLAlchemy."""
