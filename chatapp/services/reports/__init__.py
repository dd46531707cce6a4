"""Reading conversations back: Activity, its exports, Analytics, missing content."""
