"""The domain: value objects, services and errors. Imports only the standard library, attrs and itself."""
