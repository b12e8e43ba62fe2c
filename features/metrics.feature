Feature: Metrics of jessy-core and jessy-api
  Both services serve their metrics in the Prometheus text format at /metrics.
  A request is counted under its route pattern, never under its raw path, so
  the number of series stays bounded whatever names the layers have.

  Scenario Outline: a download through <service> is counted under its route pattern
    Given a new layer name
    And a payload of 16 random bytes
    And the payload was uploaded through jessy-api
    And the metrics of <service> were read
    When I download the layer through <service>
    Then the response status is 200
    And the metrics of <service> count one more GET of "<route>" answered 200
    And no metric of <service> names the layer

    Examples:
      | service    | route              |
      | jessy-core | /layers/{name}     |
      | jessy-api  | /api/layers/{name} |
