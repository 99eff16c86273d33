"""Saleor GraphQL adapter: documents as .graphql files and a gql client over one httpx client."""
