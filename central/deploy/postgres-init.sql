-- A second database for the central auth API next to Orthanc's index (compose only).
CREATE DATABASE central_auth OWNER klinika;
