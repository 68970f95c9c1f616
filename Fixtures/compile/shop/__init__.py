"""A small project package the fixtures import actions from."""
