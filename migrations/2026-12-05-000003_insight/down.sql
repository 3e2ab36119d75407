DROP TABLE goals;
ALTER TABLE organization DROP COLUMN health_weights;
