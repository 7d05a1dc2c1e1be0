"""Distribution links: organisations share the survey through short links, QR codes and posters,
and see their own figures; admins and analysts invite coordinators."""

from app.links.views import bp, public_bp

__all__ = ["bp", "public_bp"]
