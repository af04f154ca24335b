@week1 @thursday @misc @monthly
Feature: Week 1 Thursday - miscellaneous monthly processes
  UDC load migration data, CEC load forecasts, long-term re-nomination, secondary market
  trades and MT_TOR CRR approvals.

  Background:
    Given the Market Sim plan is set up
    And it is Thursday 10:00 of week 1
    And I am the participant

  @plan:W1-THU-UDC-LM
  Scenario: A UDC submits its load migration data
    Given an active load migration market
    When I submit the number of customers from the file "lm_number_of_customers.csv" as UDC "UPGAE"
    Then the request succeeds
    And the existing number of customers holds 3 records
    When I submit the DASR summary from the file "lm_dasr_summary.csv" as UDC "UPGAE"
    Then the request succeeds
    And the existing DASR summary holds 2 records
    When I submit customer rates from the file "lm_customer_rates.csv" as UDC "UPGAE"
    Then the request succeeds
    And the existing customer rates hold 2 records

  @plan:W1-THU-UDC-LM @negative @readonly
  Scenario: A read-only certificate cannot submit load migration data
    Given an active load migration market
    And I am participant "ECAL" using the "ecal-readonly" certificate
    When I submit the number of customers from the file "lm_number_of_customers.csv" as UDC "UPGAE"
    Then the request is refused with HTTP 403

  @plan:W1-THU-CEC-FORECAST
  Scenario: Submit the CEC load forecast
    Given an open forecast load submission window
    When I submit forecast load from the file "load_forecast.csv"
    Then the request succeeds
    And the load submission is "VALID"
    And the load exceedance values can be read

  @plan:W1-THU-CEC-FORECAST @negative
  Scenario: Another participant cannot submit load for me
    Given an open forecast load submission window
    And I am participant "WCAL"
    When I submit forecast load for "ECAL" from the file "load_forecast.csv"
    Then the request is refused with error "SEC0001"

  @plan:W1-THU-LT-RENOM
  Scenario: Re-nominate: retract, replace and resubmit a nomination portfolio
    Given I work in the monthly allocation market
    And the CRR team opens the submission window of the market "ALLOC_MN_2026_M03_T1"
    When I create the nomination portfolio "March LT renom" from the file "nominations_monthly.csv"
    And I submit the nomination portfolio "March LT renom"
    And I retract the nomination portfolio "March LT renom"
    And I delete the nomination portfolio "March LT renom"
    Then the request succeeds
    When I create the nomination portfolio "March LT renom" with these nominations:
      | source           | sink           | tou | mw |
      | TH_NP15_GEN-APND | DLAP_PGAE-APND | ON  | 7  |
    And I submit the nomination portfolio "March LT renom"
    Then the nomination portfolio "March LT renom" has status "SUBMITTED"
    And the nomination portfolio "March LT renom" holds 1 nomination
    And the CRR team closes the submission window of the market "ALLOC_MN_2026_M03_T1"

  @plan:W1-THU-LT-RENOM @negative
  Scenario: Re-nominating once the window is closed is refused
    Given I work in the monthly allocation market
    When I create the nomination portfolio "March LT closed" from the file "nominations_monthly.csv"
    Then the request is refused with error "MKT0004"

  @plan:W1-THU-SECONDARY
  Scenario: Sell a held CRR to another participant on the secondary market
    Given I hold a CRR for the period "2026_M03"
    When I post a public sell offer of that CRR at 2.25 $/MW
    Then the request succeeds
    And my secondary market offers with status "POSTED" include that CRR
    When I offer it to participant "WCAL" at the posted price
    Then the request succeeds
    And my secondary market offers with status "PENDING_MP_RESPONSE" include that CRR
    When participant "WCAL" accepts my sell offer
    Then the request succeeds
    And participant "WCAL" has a secondary market response with status "APPROVED"

  @plan:W1-THU-SECONDARY @negative
  Scenario: Selling a CRR someone else holds is refused
    Given participant "WCAL" holds a CRR for the period "2026_M03"
    When I post a public sell offer of that CRR at 2.25 $/MW
    Then the request is refused

  @plan:W1-THU-MT-TOR
  Scenario: Approve MT_TOR CRR conversions
    Given it is Monday 10:00 of week 1
    And TOR holder "NCAL" has requested an MT_TOR conversion for me
    # requests close Wednesday 17:00; the plan opens MT_TOR approvals Thursday 09:00 of week 1
    And it is Thursday 10:00 of week 1
    And a TOR conversion window open for approval
    When I list the MT_TOR CRRs awaiting my approval
    Then the request succeeds
    When I approve every MT_TOR CRR awaiting my approval
    Then the request succeeds
    And the MT_TOR CRRs awaiting my approval are all "APPROVED"

  @plan:W1-THU-MT-TOR @negative @readonly
  Scenario: A read-only certificate cannot approve MT_TOR CRRs
    Given it is Friday 09:00 of week 1
    And a TOR conversion window open for approval
    And I am participant "ECAL" using the "ecal-readonly" certificate
    When I approve every MT_TOR CRR awaiting my approval
    Then the request is refused with HTTP 403
