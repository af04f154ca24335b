@week1 @tuesday @allocation @monthly
Feature: Week 1 Tuesday - monthly allocation
  Participants nominate tier 1 CRRs for March 2026 against their dummy MEQ, submit historical
  and forecast load, download their nomination caps, and after the CRR team runs the market,
  their allocation results. The allocation window closes on Wednesday.

  Background:
    Given the Market Sim plan is set up
    And it is Tuesday 10:00 of week 1
    And I am the participant
    And I work in the monthly allocation market

  @plan:W1-TUE-NOMINATE-T1
  Scenario: Nominate tier 1 monthly CRRs and submit them
    When I create the nomination portfolio "March T1 nominations" from the file "nominations_monthly.csv"
    Then the request succeeds
    And the nomination portfolio "March T1 nominations" has status "VALID"
    When I submit the nomination portfolio "March T1 nominations"
    Then the request succeeds
    And the nomination portfolio "March T1 nominations" has status "SUBMITTED"

  @plan:W1-TUE-NOMINATE-T1
  Scenario: Nominations typed as a table, retracted and resubmitted
    When I create the nomination portfolio "March T1 table" with these nominations:
      | source           | sink           | tou | mw  |
      | TH_NP15_GEN-APND | DLAP_PGAE-APND | ON  | 5   |
      | TH_SP15_GEN-APND | DLAP_SCE-APND  | OFF | 2.5 |
    And I submit the nomination portfolio "March T1 table"
    And I retract the nomination portfolio "March T1 table"
    Then the request succeeds
    And the nomination portfolio "March T1 table" has status "VALID"
    When I submit the nomination portfolio "March T1 table"
    Then the nomination portfolio "March T1 table" has status "SUBMITTED"

  @plan:W1-TUE-NOMINATE-T1
  Scenario: A portfolio of exactly 500 nominations is accepted
    When I create the nomination portfolio "March T1 bulk 500" from the file "nominations_500.csv"
    Then the request succeeds
    And the nomination portfolio "March T1 bulk 500" holds 500 nominations

  @plan:W1-TUE-NOMINATE-T1 @negative
  Scenario: A portfolio of 501 nominations is refused
    When I create the nomination portfolio "March T1 bulk 501" from the file "nominations_501.csv"
    Then the request is refused with HTTP 400
    And my nomination portfolio list does not contain "March T1 bulk 501"

  @plan:W1-TUE-NOMINATE-T1 @negative
  Scenario: Another participant cannot see or submit my nomination portfolio
    When I create the nomination portfolio "March T1 private" from the file "nominations_monthly.csv"
    And participant "WCAL" asks for the status of my nomination portfolio "March T1 private"
    Then the request is refused with error "SEC0001"
    When participant "WCAL" submits my nomination portfolio "March T1 private"
    Then the request is refused with error "SEC0001"

  @plan:W1-TUE-NOMINATE-T1 @negative @readonly
  Scenario: A read-only certificate can look but not nominate
    Given I am participant "ECAL" using the "ecal-readonly" certificate
    When I list my nomination portfolios
    Then the request succeeds
    When I create the nomination portfolio "March T1 read-only" from the file "nominations_monthly.csv"
    Then the request is refused with HTTP 403

  @plan:W1-TUE-LOAD
  Scenario Outline: Submit <kind> load for the monthly process
    Given an open <kind> load submission window
    When I submit <kind> load from the file "<file>"
    Then the request succeeds
    And the load submission is "VALID"
    And I can read back the <kind> load I submitted

    Examples:
      | kind       | file                 |
      | historical | load_historical.csv  |
      | forecast   | load_forecast.csv    |

  @plan:W1-TUE-NOMCAP
  Scenario: Download my nomination cap data (dummy MEQ)
    When I download "MEQ" as CSV
    Then I receive a ZIP archive holding CSV data
    And the download mentions my SC ID

  @plan:W1-TUE-WINDOW-CLOSE @negative
  Scenario: Nominating after the window closed on Wednesday is refused
    Given it is Wednesday 17:30 of week 1
    When I create the nomination portfolio "March T1 late" from the file "nominations_monthly.csv"
    Then the request is refused with error "MKT0004"
    And the market "ALLOC_MN_2026_M03_T1" has status "CLOSED"

  @plan:W1-TUE-ALLOC-RESULTS
  Scenario: Download the allocation results once the CRR team has run the market
    Given I have submitted the nomination portfolio "March T1 for results" from the file "nominations_monthly.csv"
    And it is Wednesday 17:30 of week 1
    When the CRR team runs the market "ALLOC_MN_2026_M03_T1" and posts the results
    Then the market "ALLOC_MN_2026_M03_T1" is listed among the posted allocation markets
    When I download "PRIVATE_ALLOCATION_RESULT" as CSV
    Then I receive a ZIP archive holding CSV data
    When I download "PUBLIC_ALLOCATION_RESULT" as CSV
    Then I receive a ZIP archive holding CSV data
